"""The preference centre: the person's choices, changed through their preference link."""
