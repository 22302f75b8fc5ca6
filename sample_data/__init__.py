"""The seeded generator of a hybrid AI estate, and the small committed sample it produced."""
