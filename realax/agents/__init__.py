"""Learning agents (PPO, tabular Q-learning), env-agnostic, in the purejaxrl shape (DESIGN §4)."""
