//! Masking of personal data for display (placeholder, being written).
