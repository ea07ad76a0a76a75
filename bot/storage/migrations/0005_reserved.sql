-- Version 0005 is reserved for another branch's migration, which will replace this file
-- when the branches are merged (delete this file then: two 0005 files are refused at start,
-- so the merge cannot silently skip one). It changes nothing.
SELECT 1;
