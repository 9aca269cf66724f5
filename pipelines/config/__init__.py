"""Run configuration: one YAML file validated by pydantic (see :class:`StarConfig`)."""

from pipelines.config.model import (  # noqa: F401
    DEFAULT_CONFIG_PATH,
    ConfigError,
    StarConfig,
    config_hash,
    load_config,
)
