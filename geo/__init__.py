"""Pure core: DataFrame/GeoDataFrame in, results out. No Streamlit, no database, no file I/O."""
