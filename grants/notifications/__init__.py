"""Notifications: the emails the service writes to a user, read in the app as well as by email."""
