"""Analysis: aggregate incumbent trajectories, statistics, transfer, DeepCAVE importances, figures."""
