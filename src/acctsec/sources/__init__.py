"""Where account records come from: folders of files, SQL databases."""
