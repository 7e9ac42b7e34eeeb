"""The demo organisation "Northwind Labs" and loopback doubles of its sources.

Test and demo tooling only: production code never imports this package, and
this package never imports `extractors` (it knows the formats, not the code).
"""
