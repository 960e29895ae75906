"""Natural-language understanding: intent model, language, entities."""
