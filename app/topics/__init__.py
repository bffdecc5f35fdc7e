"""Project topics: a group proposes, staff decide."""
