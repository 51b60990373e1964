//! Field encryption for sensitive personal data (placeholder, being written).
