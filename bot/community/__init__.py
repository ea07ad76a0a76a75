"""Community writing: ideas on demand, the prompt of the day, and its entries and votes."""
