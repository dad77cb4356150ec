"""Notifications: what to tell whom, the mail outbox and sender, reminders."""
