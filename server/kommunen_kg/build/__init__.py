"""The build pipeline: sources -> validation -> enrichment -> dumps and metadata -> release."""
