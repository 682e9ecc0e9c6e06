"""The report's colours: its navy and ink, the palette charts cycle through, the colours of risk levels."""

NAVY = "#1F3A5F"

BLUE = "#2F6EBA"

TEAL = "#2A9D8F"

AMBER = "#E9A23B"

RED = "#D1495B"

GREEN = "#3C9D5D"

GREY = "#8A94A6"

PURPLE = "#7B61A8"

INK = "#333333"

PALETTE = (BLUE, TEAL, AMBER, PURPLE, GREY, RED, GREEN)

LEVEL_COLORS = {"critical": "#8E1B2B", "high": RED, "medium": AMBER, "low": GREEN}
