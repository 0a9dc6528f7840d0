"""Stack settings: the one place configuration is read and validated.

`reader` reads and checks raw config values; one module per family (cluster and network,
assets, generations, workloads and images, monitoring and logs, edge) holds that family's
dataclasses, defaults and validation; `stack` composes them into `StackSettings`.
`load_settings()` is the program's one entry.
"""

from components.settings.reader import ConfigError, Secret
from components.settings.stack import (
    ZONE_STACK,
    StackSettings,
    ZoneStackSettings,
    load_settings,
    load_zone_settings,
    parse_settings,
    parse_zone_settings,
)

__all__ = [
    "ZONE_STACK",
    "ConfigError",
    "Secret",
    "StackSettings",
    "ZoneStackSettings",
    "load_settings",
    "load_zone_settings",
    "parse_settings",
    "parse_zone_settings",
]
