-- 026: the operator's overview reads payments by the day they were made,
-- whatever their state (GET /admin/overview).
CREATE INDEX IF NOT EXISTS payments_created_idx ON payments (created_at);
