"""Reference facts every stage shares: regions and PDUs, the rating framework's text, the inspection programme,
and the reporting calendar."""
