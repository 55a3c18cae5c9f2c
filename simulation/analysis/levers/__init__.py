"""Lever cards: what each of the plan's 25 measures buys, alone and as part of the plan, over the ensemble."""
