-- 010: a creator has one name, users.full_name, which /auth/me and the
-- public profile both show.  creator_profiles.name held the name the
-- creator last chose with PUT /creators/me (it started as full_name), so it
-- wins.
UPDATE users u SET full_name = p.name
  FROM creator_profiles p
 WHERE p.user_id = u.id AND u.role = 'creator' AND u.full_name IS DISTINCT FROM p.name;
ALTER TABLE creator_profiles DROP COLUMN name;
