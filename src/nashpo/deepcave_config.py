"""DeepCAVE config that opens nashpo's exports with nashpo's run converter.

``nashpo deepcave`` builds its session config on this class. With DeepCAVE's own command:
``deepcave --open --config "$(python -c 'import nashpo.deepcave_config as c; print(c.__file__)')"``
(DeepCAVE imports a config file as ``<folder name>.<file stem>``, here ``nashpo.deepcave_config``,
so the file sits directly in the installed ``nashpo`` package). Every other setting is DeepCAVE's
default. See docs/deepcave.md.
"""

from __future__ import annotations

from deepcave.config import Config as _DeepCAVEConfig


class Config(_DeepCAVEConfig):
    @property
    def CONVERTERS(self) -> list[type]:
        from nashpo.export.deepcave import deepcave_converters  # imports deepcave's runs: only when asked

        return deepcave_converters(super().CONVERTERS)
