CALENDAR_FILE_INVALID = "calendar_file_invalid"
