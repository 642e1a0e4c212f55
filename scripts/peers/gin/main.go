// The seed's Gin server: release mode, one route, "Connection: close" on the reply.
//
// Answers GET / with the 88-byte reply's headers and body (net/http's header order, Date
// suppressed). Binds 127.0.0.1 on the port given as the first argument; the listen backlog is
// Go's default (somaxconn), as Gin's Run has no setting for it.
package main

import (
	"fmt"
	"os"

	"github.com/gin-gonic/gin"
)

var body = []byte("hello")

func main() {
	port := "8080"
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	gin.SetMode(gin.ReleaseMode)
	router := gin.New()
	router.GET("/", func(c *gin.Context) {
		c.Writer.Header()["Date"] = nil
		c.Header("Connection", "close")
		c.Header("Content-Length", "5")
		c.Data(200, "text/plain", body)
	})
	fmt.Println("gin server listening on 127.0.0.1:" + port)
	if err := router.Run("127.0.0.1:" + port); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
