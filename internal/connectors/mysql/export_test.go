package mysql

import "context"

// OpenWithoutReturning opens a connector that creates records as it must on
// servers without INSERT ... RETURNING (MySQL): one statement a record,
// whose id is read back. MariaDB's tests run the suite through it too.
func OpenWithoutReturning(ctx context.Context, url string) (*Connector, error) {
	c, err := Open(ctx, url)
	if err != nil {
		return nil, err
	}
	c.withoutReturning = true
	return c, nil
}
