"""Reference data shipped with the package: regions, PDUs and the rating framework text."""
