"""The top: the jobs (sync, judge, plan, apply, notify), the apply stage, the scheduler, Celery and the CLI.

May import every package below it; nothing imports it.
"""
