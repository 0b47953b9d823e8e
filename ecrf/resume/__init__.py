"""Nothing typed is lost: forms posted after the session ended, and the idle warning."""
