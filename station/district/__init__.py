"""The district side of the station: opening, verifying and reconciling camp bundles."""
