"""The numpy reference backend: clarity first; it defines what every op name means."""
