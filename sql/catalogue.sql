-- The catalogue: plain tables an administrator edits with SQL, whose CHECK
-- constraints reject bad rows.
CREATE EXTENSION credits;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';

-- seeded credit type
SELECT credit_type, description FROM credits.credit_types;

-- credit types: a lower-case identifier
INSERT INTO credits.credit_types VALUES ('minutes', 'Call minutes');
INSERT INTO credits.credit_types VALUES ('Bad Name', 'rejected');

-- services: cost above zero and below 10^15, a known credit type, a name
INSERT INTO credits.services VALUES (1, 'Premium Facial', true, 2, 'credit');
INSERT INTO credits.services (service_id, name, credit_cost) VALUES (2, 'Basic Facial', 1);
SELECT service_id, name, accepts_credits, credit_cost, credit_type FROM credits.services ORDER BY 1;
INSERT INTO credits.services VALUES (3, 'Free', true, 0, 'credit');
INSERT INTO credits.services VALUES (3, 'Negative', true, -1, 'credit');
INSERT INTO credits.services VALUES (3, 'NaN', true, 'NaN', 'credit');
INSERT INTO credits.services VALUES (3, 'Huge', true, 1e15, 'credit');
INSERT INTO credits.services VALUES (3, 'Unknown type', true, 1, 'tokens');
INSERT INTO credits.services VALUES (3, '', true, 1, 'credit');

-- packages: credits above zero, price zero or more, ISO 4217 currency,
-- ISO 3166 country or none, positive expiry, permanent without expiry
INSERT INTO credits.packages (name, credits, price, currency, country, expires_after, service_ids, listing_order, short_info)
VALUES ('5-Session Wellness Package', 5, 90, 'MYR', 'MY', '12 months', '{1,2}', 1, 'Five facials');
INSERT INTO credits.packages (name, credits, price, currency, permanent)
VALUES ('Top-up 10', 10, 0, 'EUR', true);
SELECT package_id, name, credit_type, credits, price, currency, country, expires_after,
       permanent, service_ids, listing_order, short_info, active
  FROM credits.packages ORDER BY package_id;
INSERT INTO credits.packages (name, credits, price, currency) VALUES ('lower', 5, 90, 'eur');
INSERT INTO credits.packages (name, credits, price, currency) VALUES ('two letters', 5, 90, 'EU');
INSERT INTO credits.packages (name, credits, price, currency) VALUES ('no credits', 0, 90, 'EUR');
INSERT INTO credits.packages (name, credits, price, currency) VALUES ('negative price', 5, -1, 'EUR');
INSERT INTO credits.packages (name, credits, price, currency, country) VALUES ('country', 5, 9, 'EUR', 'Malaysia');
INSERT INTO credits.packages (name, credits, price, currency, expires_after) VALUES ('zero expiry', 5, 9, 'EUR', '0 days');
INSERT INTO credits.packages (name, credits, price, currency, expires_after, permanent) VALUES ('both', 5, 9, 'EUR', '1 month', true);
INSERT INTO credits.packages (name, credits, price, currency, service_ids) VALUES ('null service', 5, 9, 'EUR', '{1,NULL}');
INSERT INTO credits.packages (name, credits, price, currency) VALUES (NULL, 5, 9, 'EUR');

-- accounts: a time zone PostgreSQL knows
INSERT INTO credits.accounts (account_id, timezone) VALUES (1, 'Europe/Berlin');
INSERT INTO credits.accounts (account_id, timezone) VALUES (2, 'Mars/Olympus_Mons');
SELECT account_id, is_member, timezone FROM credits.accounts;

-- credits.default_expiry: loaded with the library, an interval above zero
LOAD 'credits';
SHOW credits.default_expiry;
SET credits.default_expiry = '6 months';
SHOW credits.default_expiry;
SET credits.default_expiry = 'P1Y2M';
SHOW credits.default_expiry;
SET credits.default_expiry = 'soon';
SET credits.default_expiry = '-1 month';
SET credits.default_expiry = '0';
RESET credits.default_expiry;
SET credits.no_such_setting = 1;

DROP EXTENSION credits;
