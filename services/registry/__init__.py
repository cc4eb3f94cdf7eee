"""ClinicalTrials.gov as a second source: the v2 API client, the study parser, the sweep."""
