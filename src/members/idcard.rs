//! Chinese resident ID numbers (placeholder, being written).
