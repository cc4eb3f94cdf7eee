"""``livescreen simulate``: replay labelled datasets through the ranking cycle."""
