"""Alert delivery channels: webhook, e-mail digest and Atom feed.

Each channel is a plain function taking its collaborators (settings values,
resolver, SMTP connection factory, clock, random source) as arguments and
returning an :class:`~services.alerts.outcome.Outcome`, so the outbox that
comes later only has to store what it is told: delivered, retry at a given
time, or failed with a reason.  Nothing here touches the database.
"""
