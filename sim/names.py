"""Names the whole model shares: island groups, age bands, levers, targeting groups, option lists.

Kept apart from the parameter blocks so that every module (the schema, the population, the rules)
can import them without importing each other.
"""

from __future__ import annotations

REGIONS = ("Java", "Sumatra", "Kalimantan", "Sulawesi", "Bali-Nusa Tenggara", "Maluku-Papua")
AGE_BANDS = ("15-27", "28-43", "44-59", "60+")
LEVERS = (
    "training",
    "infrastructure",
    "literacy",
    "coproduction",
    "transparency",
    "security",
    "accessibility",
    "outreach",
    "leadership",
    "service_centres",
    "partnerships",
    "consolidation",
)
TARGETINGS = (
    "universal",
    "rural",
    "low_literacy",
    "elderly",
    "poorest",
    "outer_islands",
    "left_behind",
)
# Groups a digital-first mandate can leave the offline channel open for.
MANDATE_EXEMPTIONS = ("no_access", "elderly", "low_literacy", "rural", "outer_islands")
NETWORK_KINDS = ("homophilous", "small_world", "random", "scale_free", "mean_field")
NETWORK_BACKENDS = ("array", "networkx")
ADOPTION_RULES = ("utaut", "bass", "threshold")
