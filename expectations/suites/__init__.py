"""Expectation suites as code: landing (one module per dataset) and marts."""
