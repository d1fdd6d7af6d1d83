"""Services over SIP lines: performing a call's script on a SIP call, several calls on threads
(`ivr serve`), and worker processes that place calls (`ivr campaign`). Above the application
layer (ivr.app), below the command line."""
