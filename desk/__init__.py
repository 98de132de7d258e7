"""The human desk: tickets for what the bot cannot or should not do alone (tiers L1 bot,
L2 agents, L3 experts). It may use the bot's conversations and channels to reach a customer;
the bot never imports the desk (a handoff is recorded by the bot and taken up here)."""
