"""What leaves the service for other tools and readers: exports of a review's records and
decisions, and the PRISMA 2020 flow diagram."""
