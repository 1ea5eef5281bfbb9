-- A statement's page of lines is answered as the final text the module
-- sends (a new return type, so the old function goes), and wallet lines are
-- rendered by one set-based function over a page's postings instead of a
-- function call a line (the function files define the new ones).
DROP FUNCTION IF EXISTS tz_api_wallet_statement_lines(uuid, text, bigint, bigint, integer);
DROP FUNCTION IF EXISTS tz_wallet_line(postings, journal_entries);
