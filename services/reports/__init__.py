"""Reports of a review's state for readers outside the tool: the PRISMA 2020 flow diagram."""
