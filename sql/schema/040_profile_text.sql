-- The public profile's function answers its final JSON text instead of a
-- json value (so the module sends it without parsing it): a new return
-- type, so the old function goes, with the row formatter that only the
-- profile functions used (the function files define the new ones).
DROP FUNCTION IF EXISTS tz_api_creator_public(uuid, text);
DROP FUNCTION IF EXISTS tz_creator_public_json(creator_profiles, text);
