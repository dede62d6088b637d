"""Exporters: nashpo trial logs and DEHB's own output folders -> DeepCAVE native runs."""
