"""Agent-based model of the uptake of digital public services in Indonesia.

``from sim import DigitalAdoptionModel`` gives the mesa.Model; ``sim.config.compose`` builds a
validated configuration from the YAML files under ``configs/``.
"""

from sim.agents import Citizen, CivilServant, ServiceOffice
from sim.config import ConfigError, SimConfig, compose
from sim.model import DigitalAdoptionModel

__all__ = [
    "Citizen",
    "CivilServant",
    "ConfigError",
    "DigitalAdoptionModel",
    "ServiceOffice",
    "SimConfig",
    "compose",
]
