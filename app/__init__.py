"""Course Project Tracker: the group project of a deep-learning course, from groups to marks."""
