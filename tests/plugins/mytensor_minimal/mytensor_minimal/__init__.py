"""mytensor-minimal: an example third-party backend with only the required primitives."""
