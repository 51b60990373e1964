//! The tantivy news index with a Chinese tokenizer; SQLite stays the source of truth.
