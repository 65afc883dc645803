package clerkauth

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/scratchpad/scratchpad/internal/clerkauth/clerkfake"
)

// clerkUser is a user object in the Backend API's documented shape, trimmed
// to the fields that matter plus a few that show the parser ignores the rest.
const clerkUser = `{
	"object": "user",
	"id": "user_2abc",
	"username": null,
	"first_name": "Ada",
	"last_name": "Lovelace",
	"image_url": "https://img.clerk.com/x",
	"has_image": false,
	"primary_email_address_id": "idn_primary",
	"primary_phone_number_id": null,
	"email_addresses": [
		{"id": "idn_old", "object": "email_address", "email_address": "ada@old.example", "verification": {"status": "verified", "strategy": "email_code"}, "linked_to": []},
		{"id": "idn_primary", "object": "email_address", "email_address": "ada@example.com", "verification": {"status": "verified", "strategy": "email_code"}, "linked_to": []}
	],
	"phone_numbers": [],
	"public_metadata": {},
	"created_at": 1700000000000,
	"updated_at": 1700000000000
}`

const clerkUserWithoutNameOrEmail = `{
	"object": "user",
	"id": "user_2phone",
	"first_name": null,
	"last_name": null,
	"primary_email_address_id": null,
	"email_addresses": []
}`

const clerkUserFirstNameOnly = `{
	"object": "user",
	"id": "user_2first",
	"first_name": "Grace",
	"last_name": "",
	"primary_email_address_id": "idn_1",
	"email_addresses": [{"id": "idn_1", "object": "email_address", "email_address": "grace@example.com"}]
}`

func TestFetchUser(t *testing.T) {
	t.Parallel()
	users := map[string]json.RawMessage{
		"user_2abc":   json.RawMessage(clerkUser),
		"user_2phone": json.RawMessage(clerkUserWithoutNameOrEmail),
		"user_2first": json.RawMessage(clerkUserFirstNameOnly),
		"user_2built": clerkfake.User("user_2built", "built@example.com", "Built", "ByFake"),
		"user_2bare":  clerkfake.User("user_2bare", "", "", ""),
	}
	fake := clerkfake.New(t, nil, users)
	client := MustClient(t, fake, newFakeClock())
	wrongKey := MustClient(t, fake, newFakeClock(), func(c *Config) { c.SecretKey = "sk_test_wrong" })

	tests := []struct {
		name         string
		client       *Client
		userID       string
		want         Profile
		wantErr      bool
		wantNotFound bool
	}{
		{
			name:   "primary email chosen by id, full name",
			client: client,
			userID: "user_2abc",
			want:   Profile{ClerkUserID: "user_2abc", Email: "ada@example.com", Name: "Ada Lovelace"},
		},
		{
			name:   "no name and no email",
			client: client,
			userID: "user_2phone",
			want:   Profile{ClerkUserID: "user_2phone"},
		},
		{
			name:   "first name only",
			client: client,
			userID: "user_2first",
			want:   Profile{ClerkUserID: "user_2first", Email: "grace@example.com", Name: "Grace"},
		},
		{
			name:   "user built by clerkfake.User",
			client: client,
			userID: "user_2built",
			want:   Profile{ClerkUserID: "user_2built", Email: "built@example.com", Name: "Built ByFake"},
		},
		{
			name:   "bare user built by clerkfake.User",
			client: client,
			userID: "user_2bare",
			want:   Profile{ClerkUserID: "user_2bare"},
		},
		{name: "unknown user", client: client, userID: "user_2gone", wantErr: true, wantNotFound: true},
		{name: "wrong secret key", client: wrongKey, userID: "user_2abc", wantErr: true},
		{name: "empty id", client: client, userID: "", wantErr: true},
		{name: "id that would change the path", client: client, userID: "../jwks", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.client.FetchUser(context.Background(), tt.userID)
			if gotNotFound := errors.Is(err, ErrUserNotFound); gotNotFound != tt.wantNotFound {
				t.Errorf("FetchUser() error = %v, want ErrUserNotFound = %v", err, tt.wantNotFound)
			}
			if tt.wantErr {
				if err == nil {
					t.Errorf("FetchUser() = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("FetchUser() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("FetchUser() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
