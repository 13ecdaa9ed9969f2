package msgrules

import "github.com/boxwire/boxwire/internal/errs"

// Folders a conversation can be filed in.
const (
	FolderInbox   = "inbox"
	FolderArchive = "archive"
	FolderSpam    = "spam"
)

// Assignment is who handles a conversation: a user or a team, or no one.
type Assignment struct {
	UserID string
	TeamID string
}

// Validate refuses an assignment to both a user and a team: the seed
// says a conversation "will never return both", so it never holds both.
func (a Assignment) Validate() error {
	if a.UserID != "" && a.TeamID != "" {
		return &errs.Error{Code: errs.Invalid, Where: errs.Body,
			Message: "assign the conversation to a user or to a team, not both",
			Fields:  map[string]string{"userId": errs.Conflicts, "teamId": errs.Conflicts}}
	}
	return nil
}

// ParseFolder accepts inbox, archive and spam, in the seed's lower case.
func ParseFolder(s string) (string, error) {
	switch s {
	case FolderInbox, FolderArchive, FolderSpam:
		return s, nil
	}
	return "", errs.Field(errs.Body, "folder", errs.Invalid_, "folder must be inbox, archive or spam")
}
