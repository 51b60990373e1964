-- Issue 20: staff delete mall goods. Goods no order refers to are removed; goods with orders
-- are archived instead (下架归档): hidden from the shelf and from staff lists, while their
-- orders keep the goods' title, can still be fulfilled or cancelled (the stock comes back to
-- the archived row) and stay in exports.
ALTER TABLE mall_goods ADD COLUMN deleted_at INTEGER;
ALTER TABLE mall_goods ADD COLUMN deleted_by INTEGER REFERENCES admins(id);
