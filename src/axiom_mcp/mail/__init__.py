"""Mail Axiom sends to people: messages built from text templates, and the outbox that sends them."""
