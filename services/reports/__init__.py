"""What leaves the service for other tools: exports of a review's records and decisions."""
