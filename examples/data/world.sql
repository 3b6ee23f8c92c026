-- A small world database for examples/text_to_sql.py and `constrain sql`: countries, their cities and
-- languages. Populations and areas are rounded, approximate figures (early 2020s), good enough for questions.
CREATE TABLE country (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  continent TEXT NOT NULL,
  capital TEXT NOT NULL,
  population INTEGER NOT NULL,
  area_km2 INTEGER NOT NULL
);
CREATE TABLE city (
  name TEXT NOT NULL,
  country_code TEXT NOT NULL REFERENCES country(code),
  population INTEGER NOT NULL
);
CREATE TABLE language (
  country_code TEXT NOT NULL REFERENCES country(code),
  language TEXT NOT NULL
);
INSERT INTO country VALUES
  ('JPN', 'Japan', 'Asia', 'Tokyo', 124500000, 377975),
  ('CHN', 'China', 'Asia', 'Beijing', 1410000000, 9596961),
  ('IND', 'India', 'Asia', 'New Delhi', 1428000000, 3287263),
  ('IDN', 'Indonesia', 'Asia', 'Jakarta', 277500000, 1904569),
  ('KOR', 'South Korea', 'Asia', 'Seoul', 51700000, 100210),
  ('USA', 'United States', 'North America', 'Washington', 334900000, 9833520),
  ('CAN', 'Canada', 'North America', 'Ottawa', 40100000, 9984670),
  ('MEX', 'Mexico', 'North America', 'Mexico City', 128500000, 1964375),
  ('BRA', 'Brazil', 'South America', 'Brasilia', 216400000, 8515767),
  ('ARG', 'Argentina', 'South America', 'Buenos Aires', 46700000, 2780400),
  ('PER', 'Peru', 'South America', 'Lima', 34400000, 1285216),
  ('GBR', 'United Kingdom', 'Europe', 'London', 68300000, 242495),
  ('FRA', 'France', 'Europe', 'Paris', 68200000, 551695),
  ('DEU', 'Germany', 'Europe', 'Berlin', 84500000, 357022),
  ('ITA', 'Italy', 'Europe', 'Rome', 58800000, 301340),
  ('ESP', 'Spain', 'Europe', 'Madrid', 48400000, 505990),
  ('EGY', 'Egypt', 'Africa', 'Cairo', 112700000, 1002450),
  ('NGA', 'Nigeria', 'Africa', 'Abuja', 223800000, 923768),
  ('KEN', 'Kenya', 'Africa', 'Nairobi', 55100000, 580367),
  ('ZAF', 'South Africa', 'Africa', 'Pretoria', 60400000, 1221037),
  ('AUS', 'Australia', 'Oceania', 'Canberra', 26600000, 7692024),
  ('NZL', 'New Zealand', 'Oceania', 'Wellington', 5200000, 268021);
INSERT INTO city VALUES
  ('Tokyo', 'JPN', 14000000), ('Yokohama', 'JPN', 3770000), ('Osaka', 'JPN', 2750000),
  ('Shanghai', 'CHN', 24900000), ('Beijing', 'CHN', 21900000), ('Guangzhou', 'CHN', 18700000),
  ('Delhi', 'IND', 16800000), ('Mumbai', 'IND', 12400000), ('Bangalore', 'IND', 8400000),
  ('Jakarta', 'IDN', 10600000), ('Surabaya', 'IDN', 2900000),
  ('Seoul', 'KOR', 9400000), ('Busan', 'KOR', 3300000),
  ('New York', 'USA', 8300000), ('Los Angeles', 'USA', 3800000), ('Chicago', 'USA', 2700000),
  ('Washington', 'USA', 680000),
  ('Toronto', 'CAN', 2800000), ('Montreal', 'CAN', 1760000), ('Ottawa', 'CAN', 1020000),
  ('Mexico City', 'MEX', 9200000), ('Guadalajara', 'MEX', 1400000),
  ('Sao Paulo', 'BRA', 11400000), ('Rio de Janeiro', 'BRA', 6200000), ('Brasilia', 'BRA', 2800000),
  ('Buenos Aires', 'ARG', 3100000), ('Cordoba', 'ARG', 1500000),
  ('Lima', 'PER', 10000000), ('Arequipa', 'PER', 1100000),
  ('London', 'GBR', 8800000), ('Birmingham', 'GBR', 1150000), ('Manchester', 'GBR', 550000),
  ('Paris', 'FRA', 2100000), ('Marseille', 'FRA', 870000), ('Lyon', 'FRA', 520000),
  ('Berlin', 'DEU', 3800000), ('Hamburg', 'DEU', 1900000), ('Munich', 'DEU', 1500000),
  ('Rome', 'ITA', 2750000), ('Milan', 'ITA', 1370000), ('Naples', 'ITA', 910000),
  ('Madrid', 'ESP', 3300000), ('Barcelona', 'ESP', 1620000), ('Valencia', 'ESP', 800000),
  ('Cairo', 'EGY', 10000000), ('Alexandria', 'EGY', 5200000),
  ('Lagos', 'NGA', 15400000), ('Kano', 'NGA', 4100000), ('Abuja', 'NGA', 1200000),
  ('Nairobi', 'KEN', 4400000), ('Mombasa', 'KEN', 1200000),
  ('Johannesburg', 'ZAF', 5600000), ('Cape Town', 'ZAF', 4700000), ('Pretoria', 'ZAF', 2500000),
  ('Sydney', 'AUS', 5300000), ('Melbourne', 'AUS', 5100000), ('Canberra', 'AUS', 460000),
  ('Auckland', 'NZL', 1700000), ('Wellington', 'NZL', 215000);
INSERT INTO language VALUES
  ('JPN', 'Japanese'), ('CHN', 'Mandarin'), ('IND', 'Hindi'), ('IND', 'English'), ('IDN', 'Indonesian'),
  ('KOR', 'Korean'), ('USA', 'English'), ('USA', 'Spanish'), ('CAN', 'English'), ('CAN', 'French'),
  ('MEX', 'Spanish'), ('BRA', 'Portuguese'), ('ARG', 'Spanish'), ('PER', 'Spanish'), ('PER', 'Quechua'),
  ('GBR', 'English'), ('FRA', 'French'), ('DEU', 'German'), ('ITA', 'Italian'), ('ESP', 'Spanish'),
  ('ESP', 'Catalan'), ('EGY', 'Arabic'), ('NGA', 'English'), ('NGA', 'Hausa'), ('NGA', 'Yoruba'),
  ('KEN', 'Swahili'), ('KEN', 'English'), ('ZAF', 'Zulu'), ('ZAF', 'Xhosa'), ('ZAF', 'Afrikaans'),
  ('ZAF', 'English'), ('AUS', 'English'), ('NZL', 'English'), ('NZL', 'Maori');
